locals {
  labels = merge(var.labels, { "managed-by" = "terraform", "app" = "drover" })
  nodes = concat(
    [for i in range(var.server_count) : {
      name      = "${var.name_prefix}-${i + 1}"
      ip        = cidrhost(var.subnet_cidr, 10 + i)
      roles     = ["server", "client"]
      node_pool = "apps"
    }],
    [for i in range(var.builds_node_count) : {
      name      = "${var.name_prefix}-build-${i + 1}"
      ip        = cidrhost(var.subnet_cidr, 100 + i)
      roles     = ["client"]
      node_pool = "builds"
    }],
  )
}

resource "hcloud_ssh_key" "admin" {
  for_each   = { for i, k in var.ssh_public_keys : tostring(i) => k }
  name       = "${var.name_prefix}-admin-${each.key}"
  public_key = each.value
  labels     = local.labels
}

resource "hcloud_network" "private" {
  name     = "${var.name_prefix}-private"
  ip_range = var.network_cidr
  labels   = local.labels
}

resource "hcloud_network_subnet" "nodes" {
  network_id   = hcloud_network.private.id
  type         = "cloud"
  network_zone = var.network_zone
  ip_range     = var.subnet_cidr
}

resource "hcloud_placement_group" "spread" {
  name   = "${var.name_prefix}-spread"
  type   = "spread"
  labels = local.labels
}

# Every node: SSH from the admins only, ICMP. Agent ports stay on the private network (and the host firewall that
# the common role installs drops them from everywhere else too).
resource "hcloud_firewall" "nodes" {
  name   = "${var.name_prefix}-nodes"
  labels = local.labels

  rule {
    description = "SSH from the administrators"
    direction   = "in"
    protocol    = "tcp"
    port        = "22"
    source_ips  = var.admin_cidrs
  }

  rule {
    description = "ICMP"
    direction   = "in"
    protocol    = "icmp"
    source_ips  = ["0.0.0.0/0", "::/0"]
  }
}

# The edge node alone receives HTTP(S): Traefik runs there.
resource "hcloud_firewall" "edge" {
  name   = "${var.name_prefix}-edge"
  labels = local.labels

  rule {
    description = "HTTP (redirects to HTTPS, ACME HTTP challenge)"
    direction   = "in"
    protocol    = "tcp"
    port        = "80"
    source_ips  = ["0.0.0.0/0", "::/0"]
  }

  rule {
    description = "HTTPS"
    direction   = "in"
    protocol    = "tcp"
    port        = "443"
    source_ips  = ["0.0.0.0/0", "::/0"]
  }
}

resource "hcloud_server" "node" {
  for_each           = { for n in local.nodes : n.name => n }
  name               = each.key
  server_type        = var.server_type
  image              = var.image
  location           = var.location
  ssh_keys           = [for k in hcloud_ssh_key.admin : k.id]
  placement_group_id = hcloud_placement_group.spread.id
  firewall_ids       = each.key == local.nodes[0].name ? [hcloud_firewall.nodes.id, hcloud_firewall.edge.id] : [hcloud_firewall.nodes.id]
  labels             = merge(local.labels, { "drover-node-pool" = each.value.node_pool })
  user_data          = templatefile("${path.module}/templates/cloud-init.yml.tftpl", { hostname = each.key })

  public_net {
    ipv4_enabled = true
    ipv6_enabled = true
  }

  network {
    network_id = hcloud_network.private.id
    ip         = each.value.ip
  }

  depends_on = [hcloud_network_subnet.nodes]
}

module "inventory" {
  source = "../existing-servers"

  servers = [for n in local.nodes : {
    name            = n.name
    public_address  = hcloud_server.node[n.name].ipv4_address
    private_address = n.ip
    roles           = n.roles
    node_pool       = n.node_pool
  }]
  edge_node    = local.nodes[0].name
  ssh_user     = "root"
  cluster_cidr = var.subnet_cidr
  apps_domain  = var.apps_domain
  public_url   = var.public_url
  acme_email   = var.acme_email
}
