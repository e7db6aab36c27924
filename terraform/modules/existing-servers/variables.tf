variable "servers" {
  description = "The machines Drover runs on. roles: \"server\" (Consul/Nomad/Vault server) and/or \"client\" (Nomad client); node_pool: \"apps\" or \"builds\". 1, 3 or 5 of them must be servers (a Raft quorum)."
  type = list(object({
    name            = string
    public_address  = string
    private_address = string
    roles           = optional(list(string), ["server", "client"])
    node_pool       = optional(string, "apps")
  }))

  validation {
    condition     = contains([1, 3, 5], length([for s in var.servers : s.name if contains(s.roles, "server")]))
    error_message = "Exactly 1, 3 or 5 servers must have the \"server\" role (Raft needs an odd quorum)."
  }

  validation {
    condition     = alltrue([for s in var.servers : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", s.name))])
    error_message = "Server names must be lower-case DNS labels."
  }

  validation {
    condition     = alltrue([for s in var.servers : contains(["apps", "builds"], s.node_pool)])
    error_message = "node_pool must be \"apps\" or \"builds\"."
  }

  validation {
    condition     = alltrue(flatten([for s in var.servers : [for r in s.roles : contains(["server", "client"], r)]]))
    error_message = "roles may only contain \"server\" and \"client\"."
  }
}

variable "edge_node" {
  description = "Name of the one node that receives ports 80/443 and runs Traefik (keeps the ACME state). Empty: the first client."
  type        = string
  default     = ""
}

variable "ssh_user" {
  description = "The user Ansible connects as (needs sudo, or root)."
  type        = string
  default     = "root"
}

variable "cluster_cidr" {
  description = "The private network the nodes talk over; the host firewall opens agent ports to it and nothing else."
  type        = string

  validation {
    condition     = can(cidrhost(var.cluster_cidr, 0))
    error_message = "cluster_cidr must be a CIDR such as 10.10.0.0/16."
  }
}

variable "apps_domain" {
  description = "Wildcard DNS domain pointing at the edge node; services get <service>-<env>-<hash>.<apps_domain>."
  type        = string
}

variable "public_url" {
  description = "The dashboard's public URL, e.g. https://drover.example.com (its host must point at the edge node)."
  type        = string

  validation {
    condition     = can(regex("^https://", var.public_url))
    error_message = "public_url must start with https://."
  }
}

variable "acme_email" {
  description = "Contact address for Let's Encrypt. Empty: Traefik serves its default certificate (not for production)."
  type        = string
  default     = ""
}
