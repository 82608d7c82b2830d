#!/bin/sh
# Copy the pinned front-end packages from node_modules into static/vendor (git-ignored).
set -eu
cd "$(dirname "$0")/.."
rm -rf static/vendor.tmp
mkdir -p static/vendor.tmp/uswds static/vendor.tmp/chartjs static/vendor.tmp/frappe-gantt
cp -R node_modules/@uswds/uswds/dist/css node_modules/@uswds/uswds/dist/js \
      node_modules/@uswds/uswds/dist/img node_modules/@uswds/uswds/dist/fonts static/vendor.tmp/uswds/
cp node_modules/chart.js/dist/chart.umd.min.js static/vendor.tmp/chartjs/
cp node_modules/frappe-gantt/dist/frappe-gantt.umd.js node_modules/frappe-gantt/dist/frappe-gantt.css \
   static/vendor.tmp/frappe-gantt/
rm -rf static/vendor
mv static/vendor.tmp static/vendor
