environment = "dev"
name_prefix = "tracking-dev"
