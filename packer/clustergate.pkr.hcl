# clustergate appliance image: Debian 12 with clustergate, charon (kernel
# XFRM data path) and clustergated enabled. Written for Packer 1.6.6 (the
# Debian 12 package): HCL2, builtin qemu and amazon-ebs builders, so
# `packer validate` needs neither network nor plugins.
#
#   packer build -only=qemu.clustergate packer/clustergate.pkr.hcl
#   packer build -only=amazon-ebs.clustergate -var aws_region=eu-central-1 \
#       packer/clustergate.pkr.hcl
#
# Both builders start from Debian's official cloud images, which carry
# cloud-init: the gateway's config comes from user data at first boot
# (write_files into /etc/clustergate/), see packer/README.md.

variable "source_tarball" {
  type        = string
  default     = ""
  description = "Source tree to install (default: made from this checkout into build/image/ by the first provisioner)."
}

variable "make_jobs" {
  type    = number
  default = 2
}

# qemu builder

variable "qemu_image_url" {
  type        = string
  default     = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"
  description = "Debian 12 cloud image to start from."
}

# Packer 1.6.6 fetches a "file:" checksum list already in `packer validate`;
# offline, validate with -var qemu_image_checksum=none (see packer/README.md).
variable "qemu_image_checksum" {
  type    = string
  default = "file:https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS"
}

variable "qemu_accelerator" {
  type    = string
  default = "kvm"
}

variable "qemu_disk_size" {
  type    = string
  default = "4G"
}

variable "qemu_output_directory" {
  type    = string
  default = "build/image/qemu"
}

# amazon-ebs builder

variable "aws_region" {
  type    = string
  default = "eu-central-1"
}

variable "aws_instance_type" {
  type    = string
  default = "t3.small"
}

variable "aws_source_ami_owner" {
  type        = string
  default     = "136693071363"
  description = "Debian's AWS account: it publishes the official debian-12 AMIs."
}

variable "aws_subnet_id" {
  type        = string
  default     = ""
  description = "Subnet for the build instance (empty: the default VPC)."
}

variable "aws_ami_regions" {
  type    = list(string)
  default = []
}

variable "aws_tags" {
  type    = map(string)
  default = { Role = "k8s-ipsec-bj" }
}

locals {
  stamp          = regex_replace(timestamp(), "[- TZ:]", "")
  source_tarball = var.source_tarball != "" ? var.source_tarball : "${path.root}/../build/image/clustergate-src.tar.gz"
}

source "qemu" "clustergate" {
  iso_url          = var.qemu_image_url
  iso_checksum     = var.qemu_image_checksum
  disk_image       = true
  disk_size        = var.qemu_disk_size
  format           = "qcow2"
  accelerator      = var.qemu_accelerator
  headless         = true
  cpus             = 2
  memory           = 2048
  net_device       = "virtio-net"
  disk_interface   = "virtio"
  output_directory = var.qemu_output_directory
  vm_name          = "clustergate-${local.stamp}.qcow2"

  # NoCloud seed: lets packer log in as 'debian' with the build password.
  cd_files = ["${path.root}/seed/meta-data", "${path.root}/seed/user-data"]
  cd_label = "cidata"

  communicator     = "ssh"
  ssh_username     = "debian"
  # Set by seed/user-data; locked before the image is saved.
  ssh_password     = "clustergate-build"
  ssh_timeout      = "10m"
  shutdown_command = "sudo systemctl poweroff"
}

source "amazon-ebs" "clustergate" {
  region        = var.aws_region
  instance_type = var.aws_instance_type
  subnet_id     = var.aws_subnet_id
  ami_name      = "clustergate-debian12-${local.stamp}"
  ami_regions   = var.aws_ami_regions
  tags          = var.aws_tags
  ena_support   = true

  source_ami_filter {
    filters = {
      name                = "debian-12-amd64-*"
      architecture        = "x86_64"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = [var.aws_source_ami_owner]
    most_recent = true
  }

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 8
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    delete_on_termination = true
  }

  communicator = "ssh"
  ssh_username = "admin"
}

build {
  sources = ["source.qemu.clustergate", "source.amazon-ebs.clustergate"]

  # The tree without build outputs or git metadata.
  provisioner "shell-local" {
    inline = [
      # Both builders may run this at once: write aside, rename atomically.
      "if [ -z '${var.source_tarball}' ]; then mkdir -p '${path.root}/../build/image' && t=$(mktemp '${local.source_tarball}.XXXXXX') && tar -C '${path.root}/..' --exclude=./build --exclude=./.git -czf \"$t\" . && mv \"$t\" '${local.source_tarball}'; fi",
    ]
  }

  provisioner "file" {
    source      = local.source_tarball
    destination = "/tmp/clustergate-src.tar.gz"
    generated   = true
  }

  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
    environment_vars = ["MAKE_JOBS=${var.make_jobs}"]
    inline = [
      "set -e",
      "rm -rf /tmp/clustergate-src && mkdir /tmp/clustergate-src",
      "tar -C /tmp/clustergate-src -xzf /tmp/clustergate-src.tar.gz",
      "sh /tmp/clustergate-src/packer/provision.sh /tmp/clustergate-src",
      "rm -rf /tmp/clustergate-src /tmp/clustergate-src.tar.gz",
    ]
  }

  # Leave nothing of the build behind: the first boot in the cloud runs
  # cloud-init afresh (so the user data's write_files is applied), and the
  # build login is locked.
  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
    inline = [
      "set -e",
      "passwd -l debian 2>/dev/null || true",
      "printf 'PasswordAuthentication no\\n' > /etc/ssh/sshd_config.d/10-clustergate.conf",
      "cloud-init clean --logs --seed",
      "truncate -s 0 /etc/machine-id",
      "apt-get clean",
    ]
  }
}
