"""Leave: types, requests (working days, half days, overlap, balances), cancellation, year-end rollover.

Requests go through the approval engine (`hrms.approvals`, entity type "leave"); `approval`
is the engine's handler that moves reserved days to used (approved) or releases them (rejected).
"""
