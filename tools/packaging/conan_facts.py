#!/usr/bin/python3
"""What the Conan recipe does for one set of option values, printed for check.sh (Conan
itself is not installed on these machines). The recipe is loaded as written, with the
`conan` modules it imports replaced by stand-ins: only its plain functions are called.

    conan_facts.py RECIPE cmake-args  with_date=True with_asio=boost ...  -> -DNAME=VALUE lines
    conan_facts.py RECIPE components  ...                                 -> component names
    conan_facts.py RECIPE targets     ...                                 -> their CMake targets
    conan_facts.py RECIPE sources                                         -> what it exports
Options not given take the recipe's default_options.
"""
import importlib.util
import sys
import types


class _Anything(types.ModuleType):
    """A module whose every attribute is a stand-in class (ConanFile, CMake, copy, ...)."""

    def __getattr__(self, name):
        return type(name, (), {})


def load_recipe(path):
    for name in ("conan", "conan.tools", "conan.tools.build", "conan.tools.cmake", "conan.tools.files",
                 "conan.errors"):
        sys.modules[name] = _Anything(name)
    spec = importlib.util.spec_from_file_location("sked_recipe", path)
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    return recipe


def option_values(recipe, assignments):
    values = dict(recipe.SkedConan.default_options)
    for assignment in assignments:
        name, _, text = assignment.partition("=")
        if name not in values:
            sys.exit(f"conan_facts: the recipe has no option '{name}'")
        allowed = recipe.SkedConan.options[name]
        value = {"True": True, "False": False}.get(text, text)
        if value not in allowed:
            sys.exit(f"conan_facts: option {name} takes {allowed}, not '{text}'")
        values[name] = value
    return values


def main():
    recipe_path, what, *assignments = sys.argv[1:]
    recipe = load_recipe(recipe_path)
    values = option_values(recipe, assignments)
    if what == "cmake-args":
        for name, value in recipe.cmake_variables(**values).items():
            print(f"-D{name}={value}")
    elif what == "components":
        print("\n".join(recipe.built_components(**values)))
    elif what == "targets":
        print("\n".join(recipe.COMPONENTS[c]["target"] for c in recipe.built_components(**values)))
    elif what == "sources":
        print("\n".join(recipe.EXPORTED_SOURCES))
    else:
        sys.exit(f"conan_facts: unknown question '{what}'")


if __name__ == "__main__":
    main()
