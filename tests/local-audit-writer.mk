# tests for audit-writer
