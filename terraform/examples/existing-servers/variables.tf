variable "servers" {
  description = "Your machines: name, public address (Ansible connects there), private address (the agents talk there), roles and node pool."
  type = list(object({
    name            = string
    public_address  = string
    private_address = string
    roles           = optional(list(string), ["server", "client"])
    node_pool       = optional(string, "apps")
  }))
}

variable "cluster_cidr" {
  description = "The private network your machines share."
  type        = string
}

variable "apps_domain" {
  description = "Wildcard domain pointing at the first client (the edge node)."
  type        = string
}

variable "public_url" {
  description = "The dashboard's public URL."
  type        = string
}

variable "acme_email" {
  description = "Let's Encrypt contact address."
  type        = string
  default     = ""
}
