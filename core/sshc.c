/* placeholder: implemented by the sshc module work */
