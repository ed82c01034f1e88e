#!/usr/bin/env bash
# Build the JVM SDK: sdk/jvm/build/marketlift-sdk.jar (javac --release 8, Android-compatible)
# and the test classes. Skipped when no source changed since the last build (a stamp holding
# the sources' hash). Prints the jar's path.
set -euo pipefail
cd "$(dirname "$0")/../sdk/jvm"
JAVA_LIB=/usr/share/java
CP_TEST="$JAVA_LIB/junit-jupiter-api.jar:$JAVA_LIB/apiguardian-api.jar:$JAVA_LIB/opentest4j.jar:$JAVA_LIB/junit-platform-commons.jar"
STAMP=build/.stamp
HASH=$( (find src -name '*.java' -print0 | sort -z | xargs -0 sha256sum; echo "$CP_TEST") | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$HASH" ] && [ -f build/marketlift-sdk.jar ]; then
  echo "$PWD/build/marketlift-sdk.jar"
  exit 0
fi
rm -rf build/classes build/test-classes build/marketlift-sdk.jar
mkdir -p build/classes build/test-classes
javac --release 8 -Xlint:all,-options -Werror -encoding UTF-8 -d build/classes \
  $(find src/main/java -name '*.java')
jar --create --file build/marketlift-sdk.jar -C build/classes .
javac --release 8 -Xlint:all,-options -encoding UTF-8 -d build/test-classes \
  -cp "build/classes:$CP_TEST" $(find src/test/java -name '*.java')
echo "$HASH" > "$STAMP"
echo "$PWD/build/marketlift-sdk.jar"
