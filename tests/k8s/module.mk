# The Kubernetes API client: gateway/k8s_*.c (decoders, catalog, watch
# streams, curl client, kubeconfig), the "kubernetes" component, and its
# tests (unit tests on the API samples, a test API server, namespace tests).

K8S_SRCS := gateway/k8s_store.c gateway/k8s_objects.c gateway/k8s_catalog.c \
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
