#!/usr/bin/env bash
# Regenerates the small example media in scenes/media and tests/cases/media with ffmpeg (Debian's package).
# The outputs are committed, so neither the demo nor the tests need ffmpeg.
set -euo pipefail
cd "$(dirname "$0")/.."
ff() { ffmpeg -loglevel error -y "$@"; }
image() { ff -f lavfi -i "$2:size=$3" -frames:v 1 "$1"; }
video() { ff -f lavfi -i "testsrc2=size=$2:rate=12" -f lavfi -i "sine=frequency=$3" -t "$4" -c:v libx264 -preset veryfast -crf 40 -pix_fmt yuv420p -c:a aac -b:a 32k -shortest "$1"; }
voice() { ff -f lavfi -i "sine=frequency=$2:duration=$3" -ar 16000 -ac 1 "$1"; }

m=scenes/media
mkdir -p "$m" tests/cases/media
video "$m/girl.mp4" 320x240 440 3
voice "$m/girl.mp3" 330 2
image "$m/boy.jpg" "color=c=steelblue" 320x320
voice "$m/boy.mp3" 220 2
image "$m/alley.jpg" "color=c=dimgray" 480x270
image "$m/station.jpg" "color=c=slategray" 480x270
image "$m/june.png" "color=c=gold" 256x320
image "$m/umbrella.png" "color=c=firebrick" 256x256
image "$m/panels.png" "testsrc2=rate=1" 480x854
image "$m/nova.jpg" "color=c=lightblue" 320x320
voice "$m/nova.wav" 260 2
video "$m/rio.mp4" 320x240 520 4
image "$m/corridor.jpg" "color=c=silver" 480x270
image "$m/tray.png" "color=c=wheat" 256x256
video "$m/laowang.mp4" 320x240 300 3
voice "$m/laowang.mp3" 180 2
image "$m/xiaoli.jpg" "color=c=pink" 320x320
voice "$m/xiaoli.mp3" 400 2
image "$m/teahouse.jpg" "color=c=saddlebrown" 480x270

t=tests/cases/media
image "$t/ok.jpg" "color=c=gray" 320x320
image "$t/ok.png" "color=c=gray" 320x320
image "$t/small.png" "color=c=gray" 100x100
image "$t/thin.png" "color=c=gray" 2400x256
ff -f lavfi -i "color=c=red@0.5:size=320x320,format=rgba" -frames:v 1 "$t/alpha.png"
video "$t/ok.mp4" 320x240 440 2
video "$t/long.mp4" 320x240 440 31
voice "$t/ok.mp3" 330 2
voice "$t/ok.wav" 330 2
voice "$t/long.wav" 330 11
printf 'this is not an image\n' > "$t/fake.jpg"
cp "$t/ok.jpg" "$t/jpeg-named.png"
