# drover.nomad.hcl: Drover's control plane (API and dashboard), two replicas behind Traefik, health-checked.
# Secrets (tokens, passwords, the secret key) are not in this file or its variables: the drover Ansible role stores
# them as the Nomad Variable nomad/jobs/drover, which only this job's tasks can read, and the template below renders
# them into the task's environment.

variable "image" {
  type        = string
  description = "Drover's image (built from the repository's Dockerfile)."
}

variable "replicas" {
  type        = number
  description = "How many control plane instances run (on different nodes)."
  default     = 2
}

variable "public_url" {
  type        = string
  description = "The dashboard's public URL, e.g. https://drover.example.com."
}

variable "apps_domain" {
  type        = string
  description = "Wildcard domain under which generated service domains are made."
}

variable "nomad_addr" {
  type        = string
  description = "Nomad's HTTPS API address."
}

variable "consul_addr" {
  type        = string
  description = "Consul's HTTPS API address (the local agent)."
}

variable "vault_addr" {
  type        = string
  description = "Vault's HTTPS API address."
}

variable "vault_kv_mount" {
  type        = string
  description = "Vault KV v2 mount that holds drover/<namespace>/<job>."
  default     = "secret"
}

variable "database_public_access" {
  type        = bool
  description = "Let teams open managed databases through Traefik's database entry points (cluster_database_public_access)."
  default     = false
}

variable "database_tls_port" {
  type        = number
  description = "Public port of Traefik's shared SNI/TLS database entry point (dbtls)."
  default     = 5432
}

variable "database_mysql_port" {
  type        = number
  description = "Public port of Traefik's MySQL entry point (mysql)."
  default     = 3306
}

variable "volume_plugin" {
  type        = string
  description = "Dynamic host volume plugin of managed database volumes (drover-ext4, installed on every client, enforces their size; Nomad's built-in mkdir does not)."
  default     = "drover-ext4"
}

variable "ca_pem" {
  type        = string
  description = "The cluster CA certificate (PEM) for Nomad, Consul and Vault."
}

locals {
  host = trimsuffix(trimprefix(trimprefix(var.public_url, "https://"), "http://"), "/")
}

job "drover" {
  type      = "service"
  node_pool = "apps"
  priority  = 80

  update {
    max_parallel      = 1
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "5m"
    progress_deadline = "10m"
    auto_revert       = true
  }

  group "api" {
    count = var.replicas

    spread {
      attribute = "${node.unique.id}"
    }

    network {
      mode = "host"

      port "http" {}
    }

    service {
      name     = "drover"
      provider = "consul"
      port     = "http"
      tags = [
        "drover.managed=true",
        "traefik.enable=true",
        "traefik.http.routers.drover-dashboard.rule=Host(`${local.host}`)",
        "traefik.http.routers.drover-dashboard.entrypoints=websecure",
        "traefik.http.routers.drover-dashboard.tls=true",
        "traefik.http.services.drover-dashboard.loadbalancer.healthcheck.path=/readyz",
      ]

      check {
        name     = "healthz"
        type     = "http"
        path     = "/healthz"
        interval = "10s"
        timeout  = "2s"

        check_restart {
          limit = 3
          grace = "60s"
        }
      }

      check {
        name     = "readyz"
        type     = "http"
        path     = "/readyz"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "server" {
      driver = "docker"

      config {
        image        = var.image
        network_mode = "host"
        ports        = ["http"]
      }

      consul {}

      env {
        NODE_ENV                = "production"
        DROVER_HOST             = "${NOMAD_IP_http}"
        DROVER_PORT             = "${NOMAD_PORT_http}"
        DROVER_TRUST_PROXY      = "true"
        DROVER_PUBLIC_URL       = var.public_url
        DROVER_APPS_DOMAIN      = var.apps_domain
        DROVER_DATA_DIR         = "/alloc/data"
        NOMAD_ADDR              = var.nomad_addr
        NOMAD_CACERT            = "/local/ca.pem"
        CONSUL_HTTP_ADDR        = var.consul_addr
        CONSUL_CACERT           = "/local/ca.pem"
        VAULT_ADDR              = var.vault_addr
        VAULT_CACERT            = "/local/ca.pem"
        VAULT_KV_MOUNT          = var.vault_kv_mount
        DROVER_VOLUME_PLUGIN    = var.volume_plugin
        DROVER_DB_PUBLIC_ACCESS = tostring(var.database_public_access)
        DROVER_DB_TLS_PORT      = tostring(var.database_tls_port)
        DROVER_DB_MYSQL_PORT    = tostring(var.database_mysql_port)
      }

      template {
        data            = var.ca_pem
        destination     = "local/ca.pem"
        left_delimiter  = "[[%"
        right_delimiter = "%]]"
      }

      template {
        destination = "secrets/drover.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{- with nomadVar "nomad/jobs/drover" }}{{ $v := . }}
          DROVER_SECRET_KEY={{ .DROVER_SECRET_KEY.Value | toJSON }}
          NOMAD_TOKEN={{ .NOMAD_TOKEN.Value | toJSON }}
          NOMAD_MGMT_TOKEN={{ .NOMAD_MGMT_TOKEN.Value | toJSON }}
          CONSUL_HTTP_TOKEN={{ .CONSUL_HTTP_TOKEN.Value | toJSON }}
          VAULT_TOKEN={{ .VAULT_TOKEN.Value | toJSON }}
          {{- range service "drover-postgres" }}
          DATABASE_URL="postgres://drover:{{ $v.DATABASE_PASSWORD.Value }}@{{ .Address }}:{{ .Port }}/drover"
          {{- end }}
          {{- range service "drover-redis" }}
          REDIS_URL="redis://:{{ $v.REDIS_PASSWORD.Value }}@{{ .Address }}:{{ .Port }}/0"
          {{- end }}
          {{- range service "traefik-metrics" }}
          DROVER_TRAEFIK_METRICS_URL="http://{{ .Address }}:{{ .Port }}/metrics"
          {{- end }}
          {{- end }}
        EOT
      }

      resources {
        cpu        = 500
        memory     = 512
        memory_max = 1024
      }
    }
  }
}
