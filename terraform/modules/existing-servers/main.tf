locals {
  server_names = [for s in var.servers : s.name if contains(s.roles, "server")]
  client_names = [for s in var.servers : s.name if contains(s.roles, "client")]
  edge_node    = var.edge_node != "" ? var.edge_node : local.client_names[0]

  # The inventory in the shape ansible/site.yml expects (groups hashi_servers, hashi_clients, edge).
  inventory = {
    all = {
      vars = merge(
        {
          ansible_user        = var.ssh_user
          cluster_cidr        = var.cluster_cidr
          cluster_apps_domain = var.apps_domain
          cluster_public_url  = var.public_url
        },
        var.acme_email != "" ? { cluster_acme_email = var.acme_email } : {},
      )
      children = {
        hashi_servers = {
          hosts = {
            for s in var.servers : s.name => {
              ansible_host              = s.public_address
              cluster_advertise_address = s.private_address
            } if contains(s.roles, "server")
          }
        }
        hashi_clients = {
          hosts = {
            for s in var.servers : s.name => {
              ansible_host              = s.public_address
              cluster_advertise_address = s.private_address
              nomad_node_pool           = s.node_pool
            } if contains(s.roles, "client")
          }
        }
        edge = {
          hosts = { (local.edge_node) = {} }
        }
      }
    }
  }
}

check "edge_is_a_client" {
  assert {
    condition     = contains(local.client_names, local.edge_node)
    error_message = "The edge node must be a Nomad client (Traefik runs there)."
  }
}
