# tests/: each area keeps its tests in its own fragment.
include tests/local-audit-store.mk
include tests/local-audit-writer.mk
include tests/local-config-recorder.mk
include tests/local-cli.mk
include tests/local-policy.mk
include tests/local-export.mk
include tests/local-sandbox.mk
include tests/local-broker.mk
include tests/local-packaging.mk
