output "ansible_inventory" {
  description = "Ansible inventory (YAML) for ansible/site.yml."
  value       = module.inventory.ansible_inventory
}

output "edge_ipv4" {
  description = "Public IPv4 of the edge node: point *.apps_domain and the dashboard host at it."
  value       = hcloud_server.node[local.nodes[0].name].ipv4_address
}

output "nodes" {
  description = "Name, public IPv4 and private address of every node."
  value       = { for n in local.nodes : n.name => { public_ipv4 = hcloud_server.node[n.name].ipv4_address, private_ip = n.ip } }
}
