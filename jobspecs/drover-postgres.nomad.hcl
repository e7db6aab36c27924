# drover-postgres.nomad.hcl: Postgres for Drover's own state (desired state, deployments, audit). Its data lives on
# the dynamic host volume drover-postgres-data (sized by the drover-ext4 plugin); its password is the Nomad
# Variable nomad/jobs/drover-postgres, rendered by the template below.

variable "image" {
  type        = string
  description = "Postgres image, pinned to a major version."
  default     = "postgres:17-alpine"
}

job "drover-postgres" {
  type      = "service"
  node_pool = "apps"
  priority  = 85

  group "postgres" {
    count = 1

    network {
      mode = "bridge"

      port "db" {
        to = 5432
      }
    }

    volume "data" {
      type            = "host"
      source          = "drover-postgres-data"
      access_mode     = "single-node-single-writer"
      attachment_mode = "file-system"
    }

    service {
      name     = "drover-postgres"
      provider = "consul"
      port     = "db"

      check {
        name     = "tcp"
        type     = "tcp"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "postgres" {
      driver = "docker"

      config {
        image = var.image
        ports = ["db"]
      }

      volume_mount {
        volume      = "data"
        destination = "/var/lib/postgresql/data"
      }

      env {
        PGDATA = "/var/lib/postgresql/data/pgdata"
      }

      template {
        destination = "secrets/postgres.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{- with nomadVar "nomad/jobs/drover-postgres" }}
          POSTGRES_USER={{ .POSTGRES_USER.Value | toJSON }}
          POSTGRES_DB={{ .POSTGRES_DB.Value | toJSON }}
          POSTGRES_PASSWORD={{ .POSTGRES_PASSWORD.Value | toJSON }}
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
