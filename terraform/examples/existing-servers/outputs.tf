output "ansible_inventory" {
  description = "The inventory to save as ansible/inventories/<name>/hosts.yml."
  value       = module.drover.ansible_inventory
}

output "edge_node" {
  description = "Point the DNS records at this node."
  value       = module.drover.edge_node
}
