# nat/: the nftables module (libnftnl + libmnl), its tests and benchmark.

NAT_SRCS := nat/nat.c nat/nat_buckets.c nat/nat_check.c nat/nat_dnat.c \
	nat/nat_elements.c nat/nat_rules.c \
	nat/nat_expr.c nat/nat_hmap.c nat/nat_layout.c nat/nat_netlink.c \
	nat/nat_ranges.c nat/nat_readback.c nat/nat_service_load.c

$(eval $(call static_lib,cgnat,$(NAT_SRCS)))

# Test driver: reads a desired state as JSON and calls nat_apply().
$(BUILD)/bin/nat_apply_tool: $(call objs,tests/nat/nat_apply_tool.c) \
		$(BUILD)/libcgnat.a
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(PKG_LIBS) -lm
BINARIES += $(BUILD)/bin/nat_apply_tool

$(eval $(call unit_test,test_nat_logic,tests/unit/test_nat_logic.c,cgnat))

NET_TESTS += tests/nat/test_nat_policy.sh tests/nat/test_nat_dnat.sh \
	tests/nat/test_nat_daemon.sh
BENCH_SCRIPTS += tests/bench/nat_bench.sh

# clustergated's nat component; `clustergate cleanup` removes the table.
DAEMON_SRCS += gateway/nat_component.c gateway/static_services.c
DAEMON_LIBS += cgnat
CLI_LIBS += cgnat
