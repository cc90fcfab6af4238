# images/images.json as Nix sees it: the one declaration of every image, shared with `npm run images` (images/build/),
# so the Nix build and the Debian build cannot drift. `imageSpec` is plain data (evaluated without nixpkgs by
# test/images/declaration.test.ts); `nixPackage` turns one declared package into a nixpkgs derivation.
let
  decl = builtins.fromJSON (builtins.readFile ./images.json);
  appDir = "lib/torchain";
  isProgram = f: builtins.match "/(usr/)?s?bin/[^/]+" f != null;
in
rec {
  inherit (decl) repository version;
  names = builtins.attrNames decl.images;

  imageSpec = name:
    let img = decl.images.${name};
    in {
      inherit name;
      imageName = "${decl.repository}/${name}";
      tag = decl.version;
      kind = if img ? bundle then "node" else "hop";
      title = img.title;
      packages = map (p: {
        attr = p.nix;
        override = p.nixOverride or { };
        # Programs only: Debian's `only` may also list library files (perl-base's modules), which nixpkgs keeps in the
        # package's own store path, referenced by the copied program and so part of the image's closure anyway.
        only = map baseNameOf (builtins.filter isProgram (p.only or [ ]));
      }) img.packages;
      program = builtins.elemAt img.entrypoint 0;
      script = "${appDir}/${builtins.elemAt img.entrypoint 1}";
      nodeFlags = img.nodeFlags or [ ];
      copy = img.copy or { };
      links = img.links or { };
      bundle = img.bundle or null;
      inherit (img) env user dirs ports;
    };

  # A declared package: overridden (`nixOverride`), or cut down to the programs listed in `only` (copied, so that
  # the rest of the package, e.g. wg-quick and its wrappers, stays out of the image's closure).
  nixPackage = pkgs: p:
    let
      base = pkgs.${p.attr};
      pkg = if p.override == { } then base else base.override p.override;
    in
    if p.only == [ ] then pkg
    else pkgs.runCommand "${p.attr}-only" { } ''
      mkdir -p $out/bin
      for b in ${toString p.only}; do
        if [ -e ${pkg}/bin/$b ]; then install -m755 ${pkg}/bin/$b $out/bin/$b
        elif [ -e ${pkg}/sbin/$b ]; then install -m755 ${pkg}/sbin/$b $out/bin/$b
        else echo "${p.attr} has no program $b (images/images.json: only)" >&2; exit 1
        fi
      done
    '';
}
