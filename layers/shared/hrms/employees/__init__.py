"""Employees: records, reporting lines, PAN/Aadhaar (encrypted, masked), leave balances on hire."""
