"""Compensation data read from CSV and XLSX files with the CRM import's readers and cleaners.

cells (the stricter number and date rules for figures that go straight into pay), assignments
(plan assignment files: columns, checks and each row's outcome), outcomes (the pure rules that
decide what a row does to the assignments a person already holds), service (batches previewed,
then applied all or nothing), tasks (the apply job).
"""
