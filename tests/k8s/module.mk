# The Kubernetes API client: gateway/k8s_*.c (decoders, catalog, watch
# streams, curl client, kubeconfig), the "kubernetes" component, and its
# tests (unit tests on the API samples, a test API server, namespace tests).

K8S_SRCS := gateway/k8s_store.c gateway/k8s_objects.c gateway/k8s_catalog.c \
	gateway/k8s_slice_index.c gateway/k8s_service_view.c \
	gateway/k8s_catalog_build.c gateway/k8s_lines.c gateway/k8s_client.c \
	gateway/k8s_watch.c gateway/kubeconfig.c

$(eval $(call static_lib,cgk8s,$(K8S_SRCS)))

DAEMON_SRCS += gateway/k8s_component.c
DAEMON_LIBS += cgk8s

$(eval $(call unit_test,test_k8s_catalog,tests/unit/test_k8s_catalog.c,cgk8s cgconfig))

NET_TESTS += tests/k8s/test_k8s_watch.sh
$(eval $(call unit_test,test_k8s_kubeconfig,tests/unit/test_k8s_kubeconfig.c,cgk8s cgcore))
$(eval $(call unit_test,test_k8s_lines,tests/unit/test_k8s_lines.c,cgk8s))
NET_TESTS += tests/k8s/test_k8s_proxy.sh

# make fuzz-k8s: bounded libFuzzer run over the decoders, catalog and
# kubeconfig reader (FUZZ_SECONDS, default 60).
$(BUILD)/fuzz/fuzz_k8s: tests/k8s/fuzz_k8s.c $(K8S_SRCS) gateway/cidr.c gateway/log.c gateway/loop.c
	@mkdir -p $(@D)
	clang $(CFLAGS_BASE) -O1 -fsanitize=fuzzer,address,undefined \
		$(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS)
.PHONY: fuzz-k8s
fuzz-k8s: $(BUILD)/fuzz/fuzz_k8s
	@mkdir -p $(BUILD)/fuzz/corpus-k8s
	$(BUILD)/fuzz/fuzz_k8s -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=tests/k8s/fuzz-corpus/found- \
		$(BUILD)/fuzz/corpus-k8s tests/k8s/fuzz-corpus
	@echo "fuzz-k8s: no crash in $(FUZZ_SECONDS) s"
NET_TESTS += tests/k8s/test_k8s_scale.sh
