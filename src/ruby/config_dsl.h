/*
 * Pitchfork::ConfigDSL, the vocabulary of the configuration file's DSL
 * taken from the C tables: the settings table's DSL methods and options
 * (core/settings_table.h) and the hooks (ruby/hooks.h).  configurator.rb
 * builds Pitchfork::Configurator from it, so that a setting or a hook is
 * declared once, in C.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_CONFIG_DSL_H
#define PITCHFORK_CONFIG_DSL_H

/*
 * Define Pitchfork::ConfigDSL (again: it is idempotent).  Call it from
 * a protected call, before configurator.rb is evaluated.  Its methods:
 *
 *   ConfigDSL.setters          DSL methods of the settings, as Symbols
 *   ConfigDSL.options(method)  option keys of a DSL method, as Symbols
 *   ConfigDSL.encode(method, value, option = nil)
 *                              [name, text]: the setting's name and value
 *                              as the monitor reads it in "name\ttext"
 *                              lines; raises ArgumentError when value is
 *                              of the wrong Ruby type for the row
 *   ConfigDSL.hooks            the hooks' names, as Symbols
 *
 * Ranges are not checked here: the monitor checks every value once, with
 * the same parsers as for flags and the environment (settings_value.h).
 */
void config_dsl_define(void);

#endif
