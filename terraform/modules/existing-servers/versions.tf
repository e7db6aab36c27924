terraform {
  # No provider: this module only turns a server list into an Ansible inventory, so it works offline and for any
  # machines (bare metal, VMs, another cloud).
  required_version = ">= 1.5.0"
}
