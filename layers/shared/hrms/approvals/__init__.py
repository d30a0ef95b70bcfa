"""The generic approval engine: workflows of ordered steps per entity type, tasks, decisions.

`engine` is what other domains call inside their own transaction (start a workflow, cancel it);
`service` holds the HTTP operations (list tasks, decide, read and change workflows); `registry`
maps an entity type (leave, payroll, ...) to the code that finalises it.
"""
