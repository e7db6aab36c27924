# Hetzner Cloud: three nodes on a private network, the first one the edge node. Then:
#   export HCLOUD_TOKEN=…   (a read/write API token of your project; never commit it)
#   terraform init && terraform apply
#   mkdir -p ../../../ansible/inventories/hcloud
#   terraform output -raw ansible_inventory > ../../../ansible/inventories/hcloud/hosts.yml
#   cd ../../../ansible && ansible-playbook -i inventories/hcloud/hosts.yml site.yml
provider "hcloud" {}

module "drover" {
  source = "../../modules/hcloud-cluster"

  server_count    = 3
  ssh_public_keys = var.ssh_public_keys
  admin_cidrs     = var.admin_cidrs
  apps_domain     = var.apps_domain
  public_url      = var.public_url
  acme_email      = var.acme_email
}
