# tests/install/: the `make install` layout, systemd units, sysctl snippet
# and `packer validate` (see packer/module.mk for `make image-smoke`).
NET_TESTS += tests/install/test_install.sh
