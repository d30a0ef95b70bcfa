"""Appraisal forms with dynamic, versioned fields and the appraisals answered against them (MongoDB)."""
