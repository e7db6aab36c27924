# Existing servers (bare metal or VMs): Terraform only writes the inventory. Then:
#   terraform init && terraform apply
#   mkdir -p ../../../ansible/inventories/mine
#   terraform output -raw ansible_inventory > ../../../ansible/inventories/mine/hosts.yml
#   cd ../../../ansible && ansible-playbook -i inventories/mine/hosts.yml site.yml
module "drover" {
  source = "../../modules/existing-servers"

  servers      = var.servers
  cluster_cidr = var.cluster_cidr
  apps_domain  = var.apps_domain
  public_url   = var.public_url
  acme_email   = var.acme_email
}
