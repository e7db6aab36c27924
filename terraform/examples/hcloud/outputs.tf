output "ansible_inventory" {
  description = "The inventory to save as ansible/inventories/hcloud/hosts.yml."
  value       = module.drover.ansible_inventory
}

output "edge_ipv4" {
  description = "Point the wildcard apps record and the dashboard host at this address."
  value       = module.drover.edge_ipv4
}
