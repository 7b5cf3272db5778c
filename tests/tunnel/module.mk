# tests/tunnel/: the office tunnel through the charon plugin, with
# kernel-libipsec in network namespaces.
NET_TESTS += tests/tunnel/test_tunnel_psk.sh tests/tunnel/test_tunnel_failures.sh \
	tests/tunnel/test_tunnel_cert.sh tests/tunnel/test_plugin_install.sh \
	tests/tunnel/test_tunnel_reload.sh

$(eval $(call unit_test,test_tunnel_state,tests/tunnel/test_tunnel_state.c \
	gateway/tunnel.c,cgcore))
