"""Salary structures, employee salaries, payroll runs and their stats."""
