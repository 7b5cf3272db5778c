# etc/: `make install` rules for the binaries, the example config, the
# sysctl snippet and the systemd units. Install with DESTDIR=/some/root to
# stage an image. The full layout (tests/install/test_install.sh checks it):
#
#   $(PREFIX)/sbin/clustergated                        0755  here
#   $(PREFIX)/bin/clustergate                          0755  here
#   /etc/clustergate/                                  0750  here (the real
#       config points at secrets)
#   /etc/clustergate/clustergate.json.example          0644  here
#   /etc/sysctl.d/60-clustergate.conf                  0644  here
#   /lib/systemd/system/clustergated.{service,path}    0644  here
#   /lib/systemd/system/strongswan.service.d/clustergate.conf 0644 here
#   /usr/lib/ipsec/plugins/libstrongswan-clustergate.so 0644 charon-plugin/
#       (charon looks only there, whatever PREFIX is)
#   /etc/strongswan.d/charon/clustergate.conf          0644  charon-plugin/
#   /etc/iproute2/rt_protos.d/clustergate.conf         0644  routes/
#
# The units name /usr/sbin; a different PREFIX is substituted at install.

CG_UNITS   := etc/systemd/clustergated.service etc/systemd/clustergated.path
CG_UNITDIR := /lib/systemd/system
CG_DROPIN  := etc/systemd/strongswan.service.d/clustergate.conf

.PHONY: install-etc
install-etc: $(BUILD)/bin/clustergated $(BUILD)/bin/clustergate \
		$(CG_UNITS) $(CG_DROPIN) etc/clustergate.json etc/sysctl.d/60-clustergate.conf
	install -D -m 0755 $(BUILD)/bin/clustergated $(DESTDIR)$(PREFIX)/sbin/clustergated
	install -D -m 0755 $(BUILD)/bin/clustergate $(DESTDIR)$(PREFIX)/bin/clustergate
	install -d -m 0750 $(DESTDIR)/etc/clustergate
	install -m 0644 etc/clustergate.json $(DESTDIR)/etc/clustergate/clustergate.json.example
	install -D -m 0644 etc/sysctl.d/60-clustergate.conf \
		$(DESTDIR)/etc/sysctl.d/60-clustergate.conf
	install -d -m 0755 $(DESTDIR)$(CG_UNITDIR)
	for unit in $(CG_UNITS); do \
		sed 's|/usr/sbin/|$(PREFIX)/sbin/|g' $$unit > $(DESTDIR)$(CG_UNITDIR)/$${unit##*/} && \
		chmod 0644 $(DESTDIR)$(CG_UNITDIR)/$${unit##*/} || exit 1; \
	done
	install -D -m 0644 $(CG_DROPIN) $(DESTDIR)$(CG_UNITDIR)/strongswan.service.d/clustergate.conf

INSTALL_RULES += install-etc
