#!/bin/sh
printf hello > "$OUT"
