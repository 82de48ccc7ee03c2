#!/bin/sh
# Turn the build stage's root filesystem into the final image's (run as root, last step of the
# build; used by Containerfile here and by deploy/Dockerfile, so both build the same thing).
set -eu

# The operator's user. ssh exits 255 ("No user exists for uid 65532") without a passwd entry;
# its home is /tmp, the one writable path in the pod.
echo 'secretsync:x:65532:65532:secretsync:/tmp:/usr/sbin/nologin' >>/etc/passwd
echo 'secretsync:x:65532:' >>/etc/group
echo 'secretsync:!:19000:0:99999:7:::' >>/etc/shadow

# No package manager, no pip: nothing can be installed into a running container. The dpkg
# database (/var/lib/dpkg/status) stays, so image scanners still see which packages are in it.
rm -rf /usr/bin/apt* /usr/lib/apt /etc/apt /var/lib/apt /var/cache/apt /var/cache/debconf \
  /usr/bin/dpkg* /usr/sbin/dpkg* /usr/share/dpkg /etc/dpkg /var/lib/dpkg/info/*.*inst \
  /var/lib/dpkg/info/*.*rm /usr/bin/debconf* /usr/share/debconf /usr/share/perl5/Debconf \
  /usr/lib/python3.11/ensurepip /usr/lib/python3/dist-packages/pip* \
  /usr/lib/x86_64-linux-gnu/libapt-*
# perl comes only with git's optional commands (git fetch, clone and checkout do not use it).
rm -rf /usr/bin/perl* /usr/share/perl /usr/share/perl5 /usr/lib/x86_64-linux-gnu/perl* \
  /usr/lib/x86_64-linux-gnu/libperl.so* /usr/lib/git-core/git-*svn* \
  /usr/share/git-core/templates/hooks
# git's server side and scalar: the operator only fetches.
rm -f /usr/bin/git-shell /usr/lib/git-core/git-shell /usr/bin/scalar /usr/lib/git-core/scalar
# The kubernetes client ships a second, asyncio copy of every API class (68 MB, half the image);
# nothing imports it (kopf talks to the apiserver through aiohttp itself).
rm -rf /opt/secretsync/lib/python3.11/site-packages/kubernetes/aio
# Docs, caches and logs of the build.
rm -rf /usr/share/doc/*/changelog* /usr/share/man /usr/share/info /usr/share/locale \
  /usr/share/lintian /usr/share/bash-completion /var/log/* /var/cache/* /root/.cache /tmp/* \
  /var/tmp/*
# No set-user-ID or set-group-ID programs: the container runs as 65532 and gains nothing.
find / -xdev -type f -perm /6000 -exec chmod ug-s {} +
