# traefik.nomad.hcl: Drover's edge router. Exactly one instance, pinned to the edge node: Traefik keeps ACME state
# per instance, so several would order duplicate certificates and miss each other's HTTP challenges.
# Submitted by ansible/roles/traefik, which renders the static configuration (providers.consulCatalog with
# exposedByDefault=false and the drover.managed=true constraint) and passes it in static_config.
# Prometheus metrics are served on the internal `metrics` entry point (port metrics_port, cluster network only: the
# host firewall lists it among the agent ports) and registered in Consul as traefik-metrics, from which the drover
# job renders DROVER_TRAEFIK_METRICS_URL.

variable "image" {
  type        = string
  description = "Traefik v3 image, pinned."
  default     = "traefik:v3.5"
}

variable "edge_node" {
  type        = string
  description = "Nomad node name of the edge node that receives ports 80/443 and keeps the ACME state."
}

variable "metrics_port" {
  type        = number
  description = "Port of Traefik's internal metrics entry point (the static configuration's entryPoints.metrics)."
  default     = 8083
}

variable "static_config" {
  type        = string
  description = "Traefik's static configuration (YAML) rendered by the traefik Ansible role."
}

variable "ca_pem" {
  type        = string
  description = "The cluster CA certificate (PEM), to verify the local Consul agent's TLS certificate."
}

job "traefik" {
  type      = "service"
  node_pool = "all"
  priority  = 90

  constraint {
    attribute = "${node.unique.name}"
    value     = var.edge_node
  }

  update {
    max_parallel     = 1
    health_check     = "checks"
    min_healthy_time = "10s"
    healthy_deadline = "3m"
    auto_revert      = true
  }

  group "traefik" {
    count = 1

    network {
      mode = "host"

      port "http" {
        static = 80
      }

      port "https" {
        static = 443
      }

      port "ping" {
        static = 8082
      }

      port "metrics" {
        static = var.metrics_port
      }
    }

    volume "acme" {
      type      = "host"
      source    = "traefik-acme"
      read_only = false
    }

    service {
      name     = "traefik"
      provider = "consul"
      port     = "ping"

      check {
        name     = "ping"
        type     = "http"
        path     = "/ping"
        address_mode = "host"
        interval = "10s"
        timeout  = "2s"
      }
    }

    # Not routed (no drover.managed tag): only the drover job reads it, to find the metrics endpoint.
    service {
      name     = "traefik-metrics"
      provider = "consul"
      port     = "metrics"

      check {
        name         = "metrics"
        type         = "tcp"
        address_mode = "host"
        interval     = "30s"
        timeout      = "2s"
      }
    }

    task "traefik" {
      driver = "docker"

      config {
        image        = var.image
        network_mode = "host"
        args         = ["--configFile=/local/traefik.yml"]
        ports        = ["http", "https", "ping", "metrics"]
      }

      # Read-only discovery token through workload identity (binding rule → role nomad-tasks).
      consul {}

      volume_mount {
        volume      = "acme"
        destination = "/acme"
      }

      template {
        data        = var.ca_pem
        destination = "local/ca.pem"
        # The CA is data: other delimiters keep consul-template from reading anything in it.
        left_delimiter  = "[[%"
        right_delimiter = "%]]"
      }

      # The static configuration carries {{ env "CONSUL_TOKEN" }} where the task's Consul token goes.
      template {
        data        = var.static_config
        destination = "local/traefik.yml"
        change_mode = "restart"
      }

      resources {
        cpu        = 300
        memory     = 256
        memory_max = 512
      }
    }
  }
}
