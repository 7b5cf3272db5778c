# routes/: the route manager (netlink nexthop groups) and its parts of
# clustergated (route component, node health) and the CLI (doctor, cleanup).

ROUTES_SRCS := routes/netlink.c routes/kernel.c routes/plan.c routes/sync.c \
	routes/pin.c routes/kernel_target.c
$(eval $(call static_lib,routes,$(ROUTES_SRCS)))

DAEMON_SRCS += gateway/route_component.c gateway/route_status.c gateway/health.c
DAEMON_LIBS += routes
CLI_SRCS    += gateway/doctor.c gateway/doctor_conntrack.c gateway/cleanup.c
CLI_LIBS    += routes


# A small tool that drives the library directly, for tests and debugging.
$(BUILD)/tests/routes_tool: $(call objs,tests/routes/routes_tool.c) \
		$(BUILD)/libroutes.a $(BUILD)/libcgconfig.a
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(PKG_LIBS)
BINARIES += $(BUILD)/tests/routes_tool


INSTALL_RULES += install-routes
install-routes:
	install -D -m 0644 etc/iproute2/rt_protos.d/clustergate.conf \
		$(DESTDIR)/etc/iproute2/rt_protos.d/clustergate.conf
.PHONY: install-routes

$(eval $(call unit_test,test_routes_plan,tests/unit/test_routes_plan.c,routes cgconfig))
$(eval $(call unit_test,test_routes_health,tests/unit/test_routes_health.c gateway/health.c,cgcore))
NET_TESTS += tests/routes/test_routes_lib.sh tests/routes/test_route_mode.sh \
	tests/routes/test_doctor.sh tests/routes/test_route_api.sh
BENCH_SCRIPTS += tests/bench/route_failover.sh
