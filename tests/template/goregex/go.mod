module secretsync.test/goregex

go 1.26
