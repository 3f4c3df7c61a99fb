#!/usr/bin/env python3
"""Boot a hypervisor image through GRUB2's multiboot2 loader (TAP output).

  grub_boot.py --dts MANIFEST.dts IMAGE.img

Builds a GRUB2 rescue ISO (grub-mkrescue) whose grub.cfg loads IMAGE with
`multiboot2`, boots it in QEMU with the command of tools/qemu/x86_64.args
(-kernel replaced by -cdrom, SeaBIOS instead of qboot: GRUB's El Torito
boot needs a BIOS that runs the CD), and checks the console with
tools/run-qemu --log and the `expect:` lines of MANIFEST.dts. This is the
path GRUB2 takes on real machines; QEMU's -kernel only speaks multiboot1.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
GRUB_CFG = """set timeout=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
menuentry "sephyp" {
	multiboot2 /boot/sephyp.img
	boot
}
"""


def qemu_argv(iso):
    with open(os.path.join(REPO, 'tools', 'qemu', 'x86_64.args'), encoding='utf-8') as handle:
        args = [line.strip() for line in handle if line.strip() and not line.lstrip().startswith('#')]
    out = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ('-kernel', '-bios'):
            skip = True  # drop the option and its value
        else:
            out.append(arg)
    return out + ['-cdrom', iso]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--dts', required=True)
    parser.add_argument('--timeout', type=float, default=60.0)
    parser.add_argument('image')
    args = parser.parse_args()
    if not shutil.which('grub-mkrescue') or not shutil.which('xorriso'):
        print('1..0 # SKIP grub-mkrescue or xorriso not installed (grub-pc-bin, xorriso, mtools)')
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, 'iso')
        os.makedirs(os.path.join(root, 'boot', 'grub'))
        shutil.copy(args.image, os.path.join(root, 'boot', 'sephyp.img'))
        with open(os.path.join(root, 'boot', 'grub', 'grub.cfg'), 'w', encoding='utf-8') as handle:
            handle.write(GRUB_CFG)
        iso = os.path.join(tmp, 'sephyp.iso')
        made = subprocess.run(['grub-mkrescue', '-o', iso, root], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, check=False)
        if made.returncode != 0:
            print('1..1\nnot ok 1 - grub-mkrescue failed')
            for line in made.stdout.decode(errors='replace').splitlines()[-10:]:
                print('# ' + line)
            return 1
        log = os.path.join(tmp, 'console.log')
        try:
            run = subprocess.run(qemu_argv(iso), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 timeout=args.timeout, check=False)
            console = run.stdout
        except subprocess.TimeoutExpired as err:
            console = err.stdout or b''
        with open(log, 'wb') as handle:
            handle.write(console)
        check = subprocess.run([sys.executable, os.path.join(REPO, 'tools', 'run-qemu'), '--platform',
                                'x86_64', '--expect-from', args.dts, '--log', log], check=False)
        return check.returncode


if __name__ == '__main__':
    sys.exit(main())
