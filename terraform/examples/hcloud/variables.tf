variable "ssh_public_keys" {
  description = "SSH public keys for root on the nodes."
  type        = list(string)
}

variable "admin_cidrs" {
  description = "Your addresses, allowed to reach SSH."
  type        = list(string)
}

variable "apps_domain" {
  description = "Wildcard domain you will point at the edge node."
  type        = string
}

variable "public_url" {
  description = "The dashboard's public URL."
  type        = string
}

variable "acme_email" {
  description = "Let's Encrypt contact address."
  type        = string
}
