variable "name_prefix" {
  description = "Prefix of every resource name (servers become <prefix>-1, <prefix>-2, …)."
  type        = string
  default     = "drover"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,40}$", var.name_prefix))
    error_message = "name_prefix must be a short lower-case DNS label."
  }
}

variable "server_count" {
  description = "How many nodes; each is a Consul/Nomad/Vault server and a Nomad client. 1, 3 or 5."
  type        = number
  default     = 3

  validation {
    condition     = contains([1, 3, 5], var.server_count)
    error_message = "server_count must be 1, 3 or 5 (Raft quorum)."
  }
}

variable "builds_node_count" {
  description = "Extra client-only nodes in the \"builds\" node pool that run image builds away from apps (0 = none)."
  type        = number
  default     = 0
}

variable "server_type" {
  description = "Hetzner Cloud server type of the nodes (at least 4 GB of memory)."
  type        = string
  default     = "cx32"
}

variable "image" {
  description = "OS image of the nodes (the Ansible roles support Debian 12 and Ubuntu 24.04)."
  type        = string
  default     = "debian-12"
}

variable "location" {
  description = "Hetzner Cloud location, e.g. nbg1, fsn1, hel1."
  type        = string
  default     = "nbg1"
}

variable "network_zone" {
  description = "Network zone of the private subnet (must contain the location)."
  type        = string
  default     = "eu-central"
}

variable "network_cidr" {
  description = "IP range of the private network."
  type        = string
  default     = "10.10.0.0/16"
}

variable "subnet_cidr" {
  description = "IP range of the nodes' subnet (inside network_cidr)."
  type        = string
  default     = "10.10.1.0/24"
}

variable "ssh_public_keys" {
  description = "SSH public keys allowed to log in as root (Ansible connects with one of them)."
  type        = list(string)

  validation {
    condition     = length(var.ssh_public_keys) > 0
    error_message = "At least one SSH public key is needed."
  }
}

variable "admin_cidrs" {
  description = "Source ranges allowed to reach SSH. Keep it to your own addresses."
  type        = list(string)

  validation {
    condition     = length(var.admin_cidrs) > 0 && alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0))])
    error_message = "admin_cidrs must be a non-empty list of CIDRs."
  }
}

variable "apps_domain" {
  description = "Wildcard DNS domain you point at the edge node's address (services get names under it)."
  type        = string
}

variable "public_url" {
  description = "The dashboard's public URL (https://…); its host must point at the edge node."
  type        = string
}

variable "acme_email" {
  description = "Contact address for Let's Encrypt certificates."
  type        = string
}

variable "labels" {
  description = "Labels added to every resource."
  type        = map(string)
  default     = {}
}
