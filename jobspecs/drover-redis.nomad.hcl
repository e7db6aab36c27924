# drover-redis.nomad.hcl: Redis for fan-out, rate limits and caches. Losing it loses nothing, so it keeps no
# data on disk. The password comes from the Nomad Variable nomad/jobs/drover-redis through a config file in the
# task's secrets folder, never from the command line.

variable "image" {
  type        = string
  description = "Redis image, pinned to a minor version."
  default     = "redis:7.4-alpine"
}

job "drover-redis" {
  type      = "service"
  node_pool = "apps"
  priority  = 85

  group "redis" {
    count = 1

    network {
      mode = "bridge"

      port "redis" {
        to = 6379
      }
    }

    service {
      name     = "drover-redis"
      provider = "consul"
      port     = "redis"

      check {
        name     = "tcp"
        type     = "tcp"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "redis" {
      driver = "docker"

      config {
        image = var.image
        args  = ["/secrets/redis.conf"]
        ports = ["redis"]
      }

      template {
        destination = "secrets/redis.conf"
        change_mode = "restart"
        perms       = "0400"
        uid         = 999
        data        = <<-EOT
          port 6379
          save ""
          appendonly no
          maxmemory 200mb
          maxmemory-policy allkeys-lru
          {{- with nomadVar "nomad/jobs/drover-redis" }}
          requirepass {{ .REDIS_PASSWORD.Value }}
          {{- end }}
        EOT
      }

      resources {
        cpu        = 200
        memory     = 256
        memory_max = 384
      }
    }
  }
}
