output "ansible_inventory" {
  description = "Ansible inventory (YAML) for ansible/site.yml: write it to ansible/inventories/<name>/hosts.yml."
  value       = yamlencode(local.inventory)
}

output "edge_node" {
  description = "The node that receives ports 80/443: point the apps domain's wildcard record and the dashboard host at it."
  value       = local.edge_node
}
