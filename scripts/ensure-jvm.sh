#!/usr/bin/env bash
# Install a JDK and Debian's JUnit 5 for the JVM SDK (sdk/jvm) if they are missing
# (root on this machine kind); no Maven or Gradle downloads. Skipped when already present.
set -u
JUNIT=/usr/share/java/junit-platform-console-standalone.jar
if command -v javac >/dev/null && command -v jar >/dev/null && [ -f "$JUNIT" ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "ensure-jvm: javac, jar or $JUNIT is missing; install Debian's 'default-jdk-headless' and 'junit5'" >&2
  exit 0
fi
echo "ensure-jvm: installing a JDK and junit5 from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq default-jdk-headless junit5 >/dev/null
