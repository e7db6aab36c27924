# drover-s3.nomad.hcl: the S3-compatible object store for Drover's own artifacts (build contexts, backups), MinIO
# on the dynamic host volume drover-s3-data. Reachable on the private network only: it has no Traefik tags.

variable "image" {
  type        = string
  description = "MinIO image, pinned to a release."
  default     = "minio/minio:RELEASE.2025-04-22T22-12-26Z"
}

job "drover-s3" {
  type      = "service"
  node_pool = "apps"
  priority  = 85

  group "s3" {
    count = 1

    network {
      mode = "bridge"

      port "s3" {
        to = 9000
      }
    }

    volume "data" {
      type            = "host"
      source          = "drover-s3-data"
      access_mode     = "single-node-single-writer"
      attachment_mode = "file-system"
    }

    service {
      name     = "drover-s3"
      provider = "consul"
      port     = "s3"

      check {
        name     = "live"
        type     = "http"
        path     = "/minio/health/live"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "minio" {
      driver = "docker"

      config {
        image = var.image
        args  = ["server", "/data", "--address", ":9000"]
        ports = ["s3"]
      }

      volume_mount {
        volume      = "data"
        destination = "/data"
      }

      template {
        destination = "secrets/minio.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{- with nomadVar "nomad/jobs/drover-s3" }}
          MINIO_ROOT_USER={{ .MINIO_ROOT_USER.Value | toJSON }}
          MINIO_ROOT_PASSWORD={{ .MINIO_ROOT_PASSWORD.Value | toJSON }}
          {{- end }}
          MINIO_BROWSER=off
        EOT
      }

      resources {
        cpu        = 300
        memory     = 512
        memory_max = 1024
      }
    }
  }
}
