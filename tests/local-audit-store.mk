# tests for audit-store
