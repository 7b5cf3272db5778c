# gateway/: the config library, clustergated and the clustergate CLI.
# Included last by the Makefile, so other parts can add to DAEMON_SRCS,
# DAEMON_LIBS, CLI_SRCS and CLI_LIBS in their own module.mk.

CONFIG_SRCS := gateway/config.c gateway/config_sections.c \
	gateway/config_check.c gateway/config_fields.c gateway/cidr.c
CORE_SRCS   := gateway/log.c gateway/loop.c gateway/control.c gateway/curl_loop.c

$(eval $(call static_lib,cgconfig,$(CONFIG_SRCS)))
$(eval $(call static_lib,cgcore,$(CORE_SRCS)))

DAEMON_SRCS += gateway/clustergated.c gateway/daemon.c gateway/components.c \
	gateway/control_server.c gateway/metrics.c
CLI_SRCS    += gateway/cli.c gateway/cli_status.c

$(BUILD)/bin/clustergated: $(call objs,$(DAEMON_SRCS)) \
		$(foreach l,$(DAEMON_LIBS) cgconfig cgcore,$(BUILD)/lib$(l).a)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/bin/clustergate: $(call objs,$(CLI_SRCS)) \
		$(foreach l,$(CLI_LIBS) cgconfig cgcore,$(BUILD)/lib$(l).a)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(PKG_LIBS) -lm

BINARIES += $(BUILD)/bin/clustergated $(BUILD)/bin/clustergate

$(eval $(call unit_test,test_config,tests/unit/test_config.c,cgconfig))
$(eval $(call unit_test,test_loop,tests/unit/test_loop.c,cgcore))

NET_TESTS += tests/daemon/test_daemon.sh

# libFuzzer over the config parser (clang from Debian).
FUZZ_SECONDS ?= 60
$(BUILD)/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(CONFIG_SRCS)
	@mkdir -p $(@D)
	clang $(CFLAGS_BASE) -O1 -fsanitize=fuzzer,address,undefined \
		$(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS)
fuzz: deps $(BUILD)/fuzz/fuzz_config fuzz-k8s
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_config -max_total_time=$(FUZZ_SECONDS) \
		-dict=tests/fuzz/config.dict \
		-artifact_prefix=tests/fuzz/corpus/found- \
		$(BUILD)/fuzz/corpus tests/fuzz/corpus
	@echo "fuzz: no crash in $(FUZZ_SECONDS) s; any crashing input would be in tests/fuzz/corpus/found-*"

$(eval $(call unit_test,fuzz_replay,tests/fuzz/replay.c,cgconfig))
