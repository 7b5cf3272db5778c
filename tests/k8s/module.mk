# The Kubernetes API client: gateway/k8s_*.c (decoders, catalog, watch
# streams, curl client, kubeconfig) and its tests.

K8S_SRCS := gateway/k8s_store.c gateway/k8s_objects.c gateway/k8s_catalog.c \
	gateway/k8s_catalog_build.c

$(eval $(call static_lib,cgk8s,$(K8S_SRCS)))

DAEMON_LIBS += cgk8s

$(eval $(call unit_test,test_k8s_catalog,tests/unit/test_k8s_catalog.c,cgk8s cgconfig))
