"""Reporting: terminal tables, JSON and CSV files, the HTML report. Pure formatting here;
the CLI does the printing and the writing."""
