# packer/: the appliance image.
#
#   make image-smoke   debootstrap Debian 12, provision it with
#                      packer/provision.sh in a chroot, check the result
#                      (root; needs the Debian mirror; ~5 min, not in check)
#   make image-qemu    build the qcow2 image with Packer (needs KVM and
#                      cloud.debian.org); see packer/README.md
#   make image-aws     build an AMI (AWS credentials in the environment)
.PHONY: image-smoke image-qemu image-aws

image-smoke:
	@bash packer/image-smoke.sh

image-qemu:
	CHECKPOINT_DISABLE=1 packer build -only=qemu.clustergate packer/clustergate.pkr.hcl

image-aws:
	CHECKPOINT_DISABLE=1 packer build -only=amazon-ebs.clustergate packer/clustergate.pkr.hcl
