# packaging/: what `make install` takes from here, and the target the
# Debian package's build runs.  The package itself is built from the
# tree by packaging/build-deb.sh (dpkg-buildpackage on a copy), not by make.

# The man pages; automake installs each in the section its suffix names.
dist_man_MANS = \
	packaging/man/saferoom-export.1 \
	packaging/man/saferoom.conf.5 \
	packaging/man/saferoomctl.8 \
	packaging/man/saferoomd.8

# The unit tests alone: no root, no services, no network.  debian/rules runs
# them at package build time; tests/check.sh runs everything.
check-unit:
	@units=; for t in $(TESTS); do case $$t in tests/unit/*) units="$$units $$t" ;; esac; done; \
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$$units"

.PHONY: check-unit
