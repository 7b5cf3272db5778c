# etc/: `make install` layout for the binaries, the charon plugin and the
# files under etc/. Install with DESTDIR=/some/root to stage an image.
#
#   $(PREFIX)/sbin/clustergated                    0755
#   $(PREFIX)/bin/clustergate                      0755
#   /usr/lib/ipsec/plugins/libstrongswan-clustergate.so  0644 (charon looks
#       only there, whatever PREFIX is)
#   /etc/strongswan.d/charon/clustergate.conf      0644
#   /etc/iproute2/rt_protos.d/clustergate.conf     0644
#   /etc/clustergate/                              0750 (the real config
#       holds or points at secrets)
#   /etc/clustergate/clustergate.json.example      0644
#   /etc/sysctl.d/60-clustergate.conf              0644
#   /lib/systemd/system/clustergated.{service,path} 0644
#
# The units name /usr/sbin; a different PREFIX is substituted at install.

CG_PLUGIN_SO  := $(BUILD)/charon-plugin/libstrongswan-clustergate.so
CG_UNITS      := etc/systemd/clustergated.service etc/systemd/clustergated.path
CG_ETC_FILES  := etc/clustergate.json etc/strongswan.d/charon/clustergate.conf \
	etc/iproute2/rt_protos.d/clustergate.conf etc/sysctl.d/60-clustergate.conf
CG_UNITDIR    := /lib/systemd/system
CG_PLUGINDIR  := /usr/lib/ipsec/plugins

.PHONY: install-clustergate
install-clustergate: $(BUILD)/bin/clustergated $(BUILD)/bin/clustergate \
		$(CG_PLUGIN_SO) $(CG_UNITS) $(CG_ETC_FILES)
	install -D -m 0755 $(BUILD)/bin/clustergated $(DESTDIR)$(PREFIX)/sbin/clustergated
	install -D -m 0755 $(BUILD)/bin/clustergate $(DESTDIR)$(PREFIX)/bin/clustergate
	install -D -m 0644 $(CG_PLUGIN_SO) $(DESTDIR)$(CG_PLUGINDIR)/libstrongswan-clustergate.so
	install -D -m 0644 etc/strongswan.d/charon/clustergate.conf \
		$(DESTDIR)/etc/strongswan.d/charon/clustergate.conf
	install -D -m 0644 etc/iproute2/rt_protos.d/clustergate.conf \
		$(DESTDIR)/etc/iproute2/rt_protos.d/clustergate.conf
	install -d -m 0750 $(DESTDIR)/etc/clustergate
	install -m 0644 etc/clustergate.json $(DESTDIR)/etc/clustergate/clustergate.json.example
	install -D -m 0644 etc/sysctl.d/60-clustergate.conf \
		$(DESTDIR)/etc/sysctl.d/60-clustergate.conf
	install -d -m 0755 $(DESTDIR)$(CG_UNITDIR)
	for unit in $(CG_UNITS); do \
		sed 's|/usr/sbin/|$(PREFIX)/sbin/|g' $$unit > $(DESTDIR)$(CG_UNITDIR)/$${unit##*/} && \
		chmod 0644 $(DESTDIR)$(CG_UNITDIR)/$${unit##*/} || exit 1; \
	done

INSTALL_RULES += install-clustergate
