"""Workbook templates and the ribbon add-in, built reproducibly on any OS."""
