# Test suites register themselves in tests/<suite>/module.mk.
include $(wildcard tests/*/module.mk)
