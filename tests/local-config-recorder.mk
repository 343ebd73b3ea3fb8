# tests for config-recorder
